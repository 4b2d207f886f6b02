// expect: stack
function down(n: number): number {
  return down(n + 1) + 1;
}
down(0);
