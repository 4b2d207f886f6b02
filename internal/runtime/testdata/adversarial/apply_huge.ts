// expect: memory
Math.max.apply(null, { length: 2 ** 32 - 1 } as any);
