// expect: timeout
// A loop that never yields: only vm.Interrupt can stop it.
while (true) {}
