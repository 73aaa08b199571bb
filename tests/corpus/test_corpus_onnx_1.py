"""The ONNX corpus, half 1 of onnx_corpus.SAMPLE: each model exported once with
torch.onnx.export and drawn from the file; known exceptions in hf_known.json."""

import hf_corpus
import onnx_corpus
import pytest

pytestmark = pytest.mark.corpus
_cache = hf_corpus.Cache()
NAMES = [f"onnx:{n}" for i, n in enumerate(onnx_corpus.SAMPLE) if i % 2 == 1]


@pytest.mark.parametrize(("name", "check"), hf_corpus.cases(NAMES))
def test_export(name: str, check: str) -> None:
    hf_corpus.assert_check(_cache, name, check)
