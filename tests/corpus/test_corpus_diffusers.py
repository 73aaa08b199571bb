"""The diffusers corpus: UNets, autoencoders and a diffusion transformer from small configs
(diffusers_corpus.py), every check of checks.py; known exceptions in hf_known.json."""

import diffusers_corpus
import hf_corpus

test_model = hf_corpus.entry_tests([f"diffusers:{n}" for n in diffusers_corpus.BUILDERS])
