"""The diffusers corpus: UNets, autoencoders and a diffusion transformer from small configs
(diffusers_corpus.py), every check of checks.py; known exceptions in hf_known.json."""

import diffusers_corpus
import hf_corpus
import pytest

pytestmark = pytest.mark.corpus
_cache = hf_corpus.Cache()


@pytest.mark.parametrize(("name", "check"),
                         hf_corpus.cases([f"diffusers:{n}" for n in diffusers_corpus.BUILDERS]))
def test_model(name: str, check: str) -> None:
    hf_corpus.assert_check(_cache, name, check)
