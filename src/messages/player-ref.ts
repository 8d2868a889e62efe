/** A player (SPEC §3 "Brands"): the same ext_user_id under two brands is two players. */
export interface PlayerRef {
  brand: string;
  /** the ext_user_id */
  id: string;
}

/** One string per player, for maps, rooms and limiter keys; a brand id has no ':' so the pair reads back unambiguously. */
export function playerKey(player: PlayerRef): string {
  return `${player.brand}:${player.id}`;
}
