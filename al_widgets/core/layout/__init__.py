"""2-D maps of the pool: PCA at once, UMAP in a background process, cached on disk; the Dask cluster's UMAP."""
