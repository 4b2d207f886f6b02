const links = await everything.get_resource_links({ count: 3 });
const items = Array.isArray(links) ? links : [links];
const uris = items.filter((x) => typeof x === "object" && x !== null && "uri" in x).map((x) => x.uri);
return { count: uris.length, first: uris[0] };
