// expect: 2:5 TS2367
const chicago = await everything.get_structured_content("Chicago");
if (chicago.conditions === 5) {
  return "five";
}
return chicago.conditions;
