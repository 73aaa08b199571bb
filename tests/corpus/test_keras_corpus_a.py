"""The keras.applications corpus, share 1 of 2 (every other model by name, so that
both test workers get half): see `keras_corpus.py` for the checks and their oracles."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras_corpus as kc  # noqa: E402
import pytest  # noqa: E402

pytestmark = pytest.mark.corpus


class TestKerasApplications1(kc.CorpusChecks):
    names = kc.share(0, 2)
