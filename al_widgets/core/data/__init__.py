"""The pool and what goes into it: samples, ids, rows of any container, labels as class values, readers (DataFrame, Arrow, Parquet)."""
