"""The transformers corpus, shard 0 of hf_corpus.SHARDS (every model type from a shrunk
config; what each check compares is in checks.py, the known exceptions in hf_known.json)."""

import hf_corpus
import pytest

pytestmark = pytest.mark.corpus
SHARD = 0
_cache = hf_corpus.Cache()


@pytest.mark.parametrize(("model_type", "check"), hf_corpus.check_cases(SHARD))
def test_model(model_type: str, check: str) -> None:
    hf_corpus.assert_check(_cache, model_type, check)


@pytest.mark.parametrize(("model_type", "stage", "reason"), hf_corpus.not_built_cases(SHARD))
def test_not_built_here(model_type: str, stage: str, reason: str) -> None:
    hf_corpus.assert_not_built(model_type, stage, reason)


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
