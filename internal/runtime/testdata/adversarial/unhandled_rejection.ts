// expect: runtime
Promise.reject(new Error("nobody catches this"));
await new Promise((resolve) => setTimeout(resolve, 10));
