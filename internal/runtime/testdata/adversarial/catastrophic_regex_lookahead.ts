// expect: timeout
// Lookahead also forces regexp2; replace() routes through RegExp.prototype.exec.
return ("a".repeat(40) + "!").replace(/(?=a)(a+)+$/, "");
