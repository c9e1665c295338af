// Each test starts real silo processes on a two-core machine; running classes in parallel would
// only make them compete for CPU and turn timeouts into flakes.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
