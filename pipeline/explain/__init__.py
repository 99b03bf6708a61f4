"""Explanations of model versions: SHAP values per original column, in charts and in words.

:class:`Explainer` explains rows of one fitted model pipeline (built once per model version);
:func:`global_explanation` summarises a stratified sample for the warehouse; ``language`` turns
the probability points both into sentences.
"""

from pipeline.explain.global_summary import global_explanation, stratified_sample
from pipeline.explain.language import driver_sentence, global_driver_sentence, local_story
from pipeline.explain.shap_values import Explainer, Explanation, probability_points

__all__ = [
    "Explainer",
    "Explanation",
    "driver_sentence",
    "global_driver_sentence",
    "global_explanation",
    "local_story",
    "probability_points",
    "stratified_sample",
]
