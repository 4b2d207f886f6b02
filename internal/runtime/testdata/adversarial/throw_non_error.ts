// expect: runtime
throw { not: "an error" };
