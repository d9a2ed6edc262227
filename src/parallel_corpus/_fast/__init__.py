"""Measured fast paths that mirror a maintained library, each behind a
parity test that compares it with that library; nothing else lives here.

`yamlfast` mirrors PyYAML (tests/_fast/test_yamlfast.py), `ngram_detector`
langdetect (tests/_fast/test_ngram_detector.py), `writebehind` a direct pyarrow
write (tests/_fast/test_writebehind.py). `scripts/bench-fast-paths` times each
against its library; a path whose ratio no longer pays for its code goes."""
