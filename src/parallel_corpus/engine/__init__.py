"""Running a build: the driver (pass one over documents, alignment, pass
two), its executors (inline, process pool, Ray), its writers and report."""
