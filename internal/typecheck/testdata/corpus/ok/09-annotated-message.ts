const kinds: Array<"error" | "success" | "debug"> = ["error", "success", "debug"];
const out: Record<string, unknown> = {};
for (const messageType of kinds) {
  out[messageType] = await everything.get_annotated_message({ messageType, includeImage: false });
}
return Object.keys(out);
