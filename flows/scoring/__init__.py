"""Ranking signals, each built once from the knowledge and then asked.

Every signal has the scikit-learn shape: ``fit`` at start-up from data in
``knowledge/data/``, then ``score(message) -> {target: score}``.
:mod:`flows.understanding` only combines their scores and decides.

- :mod:`flows.scoring.features`: words, stems and character n-grams of a text,
  as TF-IDF vectors.
- :mod:`flows.scoring.bm25`: BM25 over the stems of each entry's document.
- :mod:`flows.scoring.examples`: similarity to the example questions.
- :mod:`flows.scoring.danger`: a linear danger classifier.
"""
