// expect: memory
// Array methods loop over every index in Go, out of vm.Interrupt's reach: on a sparse
// array of length 2^32-1 this would run for minutes.
return new Array(2 ** 32 - 1).indexOf(1);
