const chicago = await everything.get_structured_content("Chicago");
if (chicago.temperature < 0) {
  return `freezing: ${chicago.conditions}`;
}
return `${chicago.temperature} degrees, ${chicago.conditions}, humidity ${chicago.humidity}%`;
