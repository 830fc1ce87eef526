import { partitionSwitch } from "./partition-switch";
import { simpleCopy } from "./simple-copy";
import type { StrategyImpl } from "./types";

export function strategyFor(name: "simple_copy" | "staging_partition_switch"): StrategyImpl {
  return name === "simple_copy" ? simpleCopy : partitionSwitch;
}
