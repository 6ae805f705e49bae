"""Local servers used by the test suite and the benchmarks."""
