// Catching a failed call and reading its message, as agents do.
let problem = "none";
try {
  await filesystem.read_text_file({ path: "/definitely/not/allowed.txt" });
} catch (e) {
  problem = e.message;
}
return problem.includes("read_text_file") ? "caught" : problem;
