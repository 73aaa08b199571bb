"""The transformers corpus, shard 0 of hf_corpus.SHARDS: every check of every model type
that builds from a shrunk config, and every type that does not (checks.py says what each
check compares; hf_known.json lists the exceptions)."""

import hf_corpus

test_model, test_not_built_here = hf_corpus.shard_tests(0)


def test_known_lists_name_only_corpus_entries() -> None:
    """hf_known.json names entries that exist: every transformers type is either tested,
    not built here or too slow, and a known failure is one of the six checks of an entry
    that is tested (a type transformers drops, or a stale entry, turns this red)."""
    import diffusers_corpus
    import onnx_corpus

    data = hf_corpus.known()
    types = set(hf_corpus.all_types())
    assert set(data["not_built"]) <= types and set(data["too_slow"]) <= types
    assert not set(data["not_built"]) & set(data["too_slow"])
    tested = (types - set(data["not_built"]) - set(data["too_slow"])) \
        | {f"diffusers:{n}" for n in diffusers_corpus.BUILDERS} \
        | {f"onnx:{n}" for n in onnx_corpus.SAMPLE}
    for key in data["failing"]:
        name, check = key.rsplit("/", 1)
        assert name in tested and check in hf_corpus.CHECKS, key
