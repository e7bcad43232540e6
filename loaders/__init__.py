"""The loader library: land source systems into bronze Delta tables, exactly once.

A *source* exposes *streams*; a stream yields Arrow record batches; the bronze writer
commits each batch to a Delta table with the stream's state in the same commit.
"""
