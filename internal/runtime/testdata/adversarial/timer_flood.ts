// expect: calls_in_flight
for (;;) setTimeout(() => {}, 1e6);
