"""The transformers corpus, shard 2 of hf_corpus.SHARDS (every model type from a shrunk
config; what each check compares is in checks.py, the known exceptions in hf_known.json)."""

import hf_corpus
import pytest

pytestmark = pytest.mark.corpus
SHARD = 2
_cache = hf_corpus.Cache()


@pytest.mark.parametrize(("model_type", "check"), hf_corpus.check_cases(SHARD))
def test_model(model_type: str, check: str) -> None:
    hf_corpus.assert_check(_cache, model_type, check)


@pytest.mark.parametrize(("model_type", "stage", "reason"), hf_corpus.not_built_cases(SHARD))
def test_not_built_here(model_type: str, stage: str, reason: str) -> None:
    hf_corpus.assert_not_built(model_type, stage, reason)
