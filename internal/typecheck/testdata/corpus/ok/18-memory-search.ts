const [byString, byObject] = await Promise.all([
  memory.search_nodes("person"),
  memory.search_nodes({ query: "person" }),
]);
return byString.entities.length === byObject.entities.length;
