class Cache {
  private hits = 0;
  private store = new Map<string, string>();
  async weather(city: string): Promise<string> {
    const cached = this.store.get(city);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    const w = await tools.get_weather(city);
    this.store.set(city, w);
    return w;
  }
  get hitCount() {
    return this.hits;
  }
}
const cache = new Cache();
for (const city of ["Rome", "Rome", "Oslo", "Rome"]) {
  await cache.weather(city);
}
return cache.hitCount;
