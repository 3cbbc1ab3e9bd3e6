"""The natural-question set: ten short documents written for it (five Arabic, five English, each in
another file format) and 122 questions asked the way a reader asks after reading, never copying
the sentence that answers. See build.py for the library and docs/natural.md for the figures."""
