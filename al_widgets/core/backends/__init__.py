"""Pools held somewhere else than this process: a Dask cluster (``dask_pool``), scored block by block."""
