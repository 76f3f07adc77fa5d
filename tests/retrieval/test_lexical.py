"""BM25 keyword search: word forms meet, exact clinical terms win, masks restrict."""

from __future__ import annotations

import numpy as np

from retrieval.lexical import BM25Index, stem, tokenize


def test_word_forms_meet_and_stopwords_go() -> None:
    assert stem("sleeping") == stem("sleeps") == stem("sleep")
    assert stem("routines") == stem("routine")
    assert stem("stopped") == stem("stop")
    assert tokenize("I can't stop WORRYING about the worries") == ["stop", "worry", "worry"]


def test_exact_terms_rank_their_passage_first_and_masks_restrict() -> None:
    index = BM25Index(
        ["sleep", "lithium", "panic"],
        [
            "Regular sleep routines and less caffeine help insomnia.",
            "Lithium levels need blood tests every three months.",
            "Slow breathing helps you ride out panic attacks.",
        ],
    )
    assert index.search("my lithium blood test", k=3)[0][0] == 1
    assert [i for i, _ in index.search("sleeping badly, panic attack", k=3)] in ([0, 2], [2, 0])
    masked = index.search("sleeping badly, panic attack", k=3, mask=np.array([False, True, True]))
    assert [i for i, _ in masked] == [2]
    assert index.search("zebra quantum", k=3) == []
    assert BM25Index([], []).search("anything", k=3) == []
