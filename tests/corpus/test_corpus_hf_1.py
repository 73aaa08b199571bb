"""The transformers corpus, shard 1 of hf_corpus.SHARDS: every check of every model type
that builds from a shrunk config, and every type that does not (checks.py says what each
check compares; hf_known.json lists the exceptions)."""

import hf_corpus

test_model, test_not_built_here = hf_corpus.shard_tests(1)
