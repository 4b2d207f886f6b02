// expect: stack
const o: any = { get x(): any { return this.x; } };
return o.x;
