interface Node { name: string; type: "file" | "directory"; children?: Node[] }
const root = (await filesystem.list_allowed_directories()).content.split("\n")[1];
const tree: Node[] = JSON.parse((await filesystem.directory_tree(root)).content);
function count(nodes: Node[]): number {
  return nodes.reduce((n, node) => n + (node.type === "file" ? 1 : count(node.children ?? [])), 0);
}
return count(tree);
