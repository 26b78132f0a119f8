"""Japanese text normalisation; the implementation lives in shared so that
console-api validates lexicon edits with exactly the folding triage matches with."""

from sodan_shared.normalise import Normalised, normalise, normalise_with_breaks

__all__ = ["Normalised", "normalise", "normalise_with_breaks"]
