// expect: result
return Array.from({ length: 1e5 }, () => "x".repeat(100));
