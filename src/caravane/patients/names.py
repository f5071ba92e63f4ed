"""Name keys for tolerant search: one skeleton per name token, the same for every spelling.

Mohamed, Mohammed, Mhamed and محمد all give "mhmd"; Ait, Aït and آيت all give "t". A key is
the name's consonant skeleton after transliterating Arabic, folding accents and merging the
consonants that French, English and Arabic spellings swap (ch/sh, kh/k, q/k, dj/j...).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata

from unidecode import unidecode

# Arabic letters to their Latin consonant; long vowels, hamza carriers and ain become vowels
# (dropped), as Latin spellings of Moroccan names usually drop or vocalise them.
_ARABIC = {
    "ا": "a", "أ": "a", "إ": "a", "آ": "a", "ٱ": "a", "ى": "a", "ء": "a", "ئ": "a", "ؤ": "a", "ع": "a",
    "ة": "a", "و": "u", "ي": "i", "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "k", "د": "d",
    "ذ": "d", "ر": "r", "ز": "z", "س": "s", "ش": "x", "ص": "s", "ض": "d", "ط": "t", "ظ": "d", "غ": "g",
    "ف": "f", "ق": "k", "ك": "k", "ڭ": "g", "گ": "g", "ل": "l", "م": "m", "ن": "n", "ه": "h", "ڤ": "f",
    "پ": "b", "ی": "i", "ک": "k",
}
# Latin spellings: digraphs first (longest first), then single letters.
_DIGRAPHS = [("tch", "x"), ("dj", "j"), ("ch", "x"), ("sh", "x"), ("kh", "k"), ("gh", "g"), ("th", "t"),
             ("dh", "d"), ("ph", "f"), ("ck", "k"), ("ou", "u")]
_LETTERS = str.maketrans({"q": "k", "c": "k", "p": "b", "v": "f"})
_VOWELS = re.compile(r"[aeiouyw]")
_ARABIC_ARTICLE = re.compile(r"^(ال|ٱل)")
_LATIN_ARTICLES = {"el", "al", "ed", "er", "es", "et", "ez", "ad", "ar", "as", "at", "az"}
# "Abd" (servant of) binds to the next word: Abdelaziz, Abd El Aziz and عبد العزيز are one name.
_ABD = {"abd", "abdel", "abdal", "abdul", "abdou", "abdu"}
_TOKEN_SPLIT = re.compile(r"[^\w]+|_")
_ARABIC_CHARS = re.compile(r"[\u0600-\u06ff]")
_DIACRITICS = re.compile(r"[\u064b-\u065f\u0670\u0640]")  # harakat, shadda, superscript alef, tatweel
EMPTY_KEY = "_"


def is_arabic(text: str) -> bool:
    return bool(_ARABIC_CHARS.search(text))


def to_latin(text: str) -> str:
    """A lower-case, accent-free Latin rendering of ``text`` (Arabic transliterated)."""
    text = unicodedata.normalize("NFKC", text or "")
    if is_arabic(text):
        text = _DIACRITICS.sub("", text)
        words = []
        for word in text.split():
            word = _ARABIC_ARTICLE.sub("", word) if len(word) > 3 else word
            words.append("".join(_ARABIC.get(ch, ch) for ch in word))
        text = " ".join(words)
    return unidecode(text).lower()


def tokens(text: str) -> list[str]:
    """The words of a name in Latin rendering, hyphenated parts and articles (El-, Al-) separated out."""
    words = [w for w in _TOKEN_SPLIT.split(to_latin(text)) if w and not w.isdigit()]
    kept = [w for w in words if w not in _LATIN_ARTICLES] or words
    joined: list[str] = []
    for word in kept:
        if joined and joined[-1] in _ABD:
            joined[-1] = "abdel" + word
        else:
            joined.append(word)
    return joined


def skeleton(word: str) -> str:
    """The search key of one Latin-rendered word."""
    for digraph, letter in _DIGRAPHS:
        word = word.replace(digraph, letter)
    word = _VOWELS.sub("", word.translate(_LETTERS))
    word = re.sub(r"(.)\1+", r"\1", word)
    return word[:24] or EMPTY_KEY


def name_keys(text: str) -> list[str]:
    """The distinct search keys of every word in ``text``, in order."""
    seen: dict[str, None] = {}
    for word in tokens(text):
        key = skeleton(word)
        seen.setdefault(key, None)
        if key.startswith("bdl") and len(key) > 3:
            # The article before a sun letter is often not written: Abdeslam for عبد السلام.
            seen.setdefault("bd" + key[3:], None)
        if word.startswith(("el", "al")) and len(word) > 4:
            # Perhaps a glued article (Elidrissi): also key the word without it, unless nothing is left.
            bare = skeleton(word[2:])
            if bare != EMPTY_KEY:
                seen.setdefault(bare, None)
    return list(seen)


PREFIX_MIN_CHARS = 3
# A word cut short after one of these letters may be the start of a digraph (Rac- for Rachid, Ad- for Adjou).
_DIGRAPH_STARTS = {"c": "h", "s": "h", "t": "h", "d": "hj", "p": "h", "k": "h", "g": "h"}


def prefix_keys(text: str) -> list[str]:
    """The key beginnings that the last, perhaps unfinished, word of ``text`` may stand for ("Moh" gives "mh").

    Empty when that word is shorter than PREFIX_MIN_CHARS letters or has no consonant to key on.
    """
    words = tokens(text)
    if not words or len(words[-1]) < PREFIX_MIN_CHARS:
        return []
    word = words[-1]
    variants = [word] + [word + letter for letter in _DIGRAPH_STARTS.get(word[-1], "")]
    return [key for key in dict.fromkeys(skeleton(variant) for variant in variants) if key != EMPTY_KEY]


def pair_keys(keys: list[str]) -> list[str]:
    """Keys for two words of one name together ("l mhmd" for Mohamed Alaoui): selective where single words are not."""
    return sorted({" ".join(sorted(pair)) for pair in itertools.combinations(dict.fromkeys(keys), 2)})


@functools.lru_cache(maxsize=4096)
def skeleton_text(text: str) -> str:
    """The keys of ``text`` as one string, for comparing names by sound."""
    return " ".join(name_keys(text))


@functools.lru_cache(maxsize=4096)
def comparable(text: str) -> str:
    """``text`` reduced for fuzzy comparison: Latin rendering with its vowels kept, words space-separated."""
    return " ".join(tokens(text))
