// expect: runtime
// The classic escape to the host: there is no host process object to reach.
return this.constructor.constructor("return process")();
