"""Running a build: the driver (`build`: pass one over documents, alignment,
pass two), its executors (`executors`, inline or a process pool, and
`ray_executor`), its Parquet writers (`writers`), its report (`report`), and
giving memory back between steps (`memory`)."""
