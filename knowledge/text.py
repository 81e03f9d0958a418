"""Chinese text: tokenising for search and similarity. Chinese has no spaces between words.

jieba cuts text into words (`HMM=False` plus our domain dictionary gives stable tokens);
for similarity we also compare overlapping character pairs (bigrams), which catch
near-duplicates even when a word is missing from the dictionary. jieba loads once per
process (about 0.8 s), on first use.
"""

import re
import threading
from functools import lru_cache
from pathlib import Path

_DICT = Path(__file__).resolve().parent / "data" / "jieba_domain.txt"
_lock = threading.Lock()
_tokenizer = None

# Particles and filler that carry no meaning for matching.
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "在",
        "和",
        "与",
        "及",
        "或",
        "也",
        "都",
        "就",
        "又",
        "还",
        "很",
        "把",
        "被",
        "给",
        "让",
        "向",
        "从",
        "对",
        "我",
        "你",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "他们",
        "这",
        "那",
        "这个",
        "那个",
        "一个",
        "有",
        "没",
        "没有",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "哦",
        "嗯",
        "请",
        "您",
        "要",
        "想",
        "能",
        "会",
        "可以",
        "一下",
        "一直",
        "the",
        "a",
        "an",
        "of",
        "to",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "in",
        "on",
        "for",
        "with",
        "my",
        "your",
        "it",
        "this",
        "that",
    ]
)
_WORD = re.compile(r"[\w]+", re.UNICODE)
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _jieba():
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.load_userdict(str(_DICT))
                _tokenizer = tok
    return _tokenizer


@lru_cache(maxsize=4096)
def tokenize(text):
    """Meaningful lowercase tokens of `text`, in order (duplicates kept)."""
    if not text:
        return ()
    out = []
    for chunk in _WORD.findall(text.lower()):
        if _HAN.search(chunk):
            out.extend(w for w in _jieba().cut(chunk, HMM=False) if w.strip())
        else:
            out.append(chunk)
    return tuple(t for t in out if t not in STOPWORDS)


def bigrams(text):
    """Overlapping character pairs of the Han/alphanumeric runs in `text`."""
    grams = set()
    for chunk in _WORD.findall((text or "").lower()):
        if len(chunk) == 1:
            grams.add(chunk)
        grams.update(chunk[i : i + 2] for i in range(len(chunk) - 1))
    return grams


def similarity(a, b):
    """0..1: how alike two short texts (subjects) are, for de-duplication.

    The largest of: word overlap (Jaccard over jieba tokens), word containment (shared words
    over the shorter text's words, when that has at least two: "APP登录不了" restated inside a
    longer subject) and character-pair overlap (Dice over bigrams, for words jieba cuts
    differently).
    """
    ta, tb = set(tokenize(a)), set(tokenize(b))
    words = len(ta & tb) / len(ta | tb) if ta and tb else 0.0
    shorter = min(len(ta), len(tb))
    if shorter >= 2:
        words = max(words, 0.9 * len(ta & tb) / shorter)
    ga, gb = bigrams(a), bigrams(b)
    chars = 2 * len(ga & gb) / (len(ga) + len(gb)) if ga and gb else 0.0
    return max(words, chars)


def search_text(*parts):
    """The space-joined tokens of `parts`, stored in search columns (FTS on both databases)."""
    return " ".join(t for p in parts for t in tokenize(p or ""))


def normalise_newlines(value):
    """`value` with Windows and old Mac line endings turned into "\\n" (browsers send a
    textarea's lines ending in "\\r\\n"); anything but a string is returned as it is."""
    if isinstance(value, str) and "\r" in value:
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value
