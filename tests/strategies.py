"""Shared hypothesis strategies."""

import string

from hypothesis import strategies as st

# Names as clients really send them: any Unicode, with path tricks mixed in.
file_names = st.one_of(
    st.text(min_size=1, max_size=300),
    st.lists(
        st.sampled_from(
            ["..", ".", "/", "\\", "a", "é", "名", " ", "\x00", "\u202e", ".bashrc", "~"]
        ),
        min_size=1,
        max_size=20,
    ).map("".join),
)

file_bytes = st.binary(min_size=1, max_size=4096)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)

header_values = st.text(alphabet=string.printable.replace("\r", "").replace("\n", ""), max_size=200)
