// expect: timeout
// A backreference forces the backtracking engine (regexp2), which vm.Interrupt cannot
// stop: its match timeout must end it.
return /(a+)+\1$/.test("a".repeat(40) + "!");
