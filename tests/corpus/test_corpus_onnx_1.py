"""The ONNX corpus, half 1 of onnx_corpus.SAMPLE: each model exported once with
torch.onnx.export and drawn from the file; known exceptions in hf_known.json."""

import hf_corpus
import onnx_corpus

test_export = hf_corpus.entry_tests([f"onnx:{n}" for i, n in enumerate(onnx_corpus.SAMPLE)
                                     if i % 2 == 1])
