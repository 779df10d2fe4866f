// Memory-aware Claude calls: reads the request's `memory`, injects the selected memories, runs the memory tool loop.
import { invalid } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { MemoryService } from '../memory/memory-service.js';
import type { Meter } from '../meter/meter.js';
import type { Store } from '../storage/contract.js';
import { contextHeaders, loadContext, withContext } from './memory-context.js';
import { MemoryFiles } from './memory-files.js';
import { declaredMemoryTool, readMemorySpec } from './memory-spec.js';
import { MemoryTool } from './memory-tool.js';
import type { ClaudeConfig } from './options.js';
import type { ClaudeCall, ClaudeOutcome, ClaudeProxy } from './proxy.js';
import { runToolLoop, ToolLoop } from './tool-loop.js';
import { streamToolLoop } from './tool-stream.js';

export interface MemoryClaudeDeps {
  proxy: ClaudeProxy;
  memory: MemoryService;
  store: Store;
  meter: Meter;
  config: ClaudeConfig;
  /** Longest user_id and key, in UTF-8 bytes (the memory API's limit). */
  maxKeyBytes: number;
  logger: Logger;
}

/** The Claude routes call this instead of the proxy: without `memory` in the request it is the proxy's call unchanged. */
export class MemoryClaude {
  private readonly tool: MemoryTool;

  constructor(private readonly deps: MemoryClaudeDeps) {
    const files = new MemoryFiles(deps.memory, deps.store, deps.logger);
    this.tool = new MemoryTool(files, deps.maxKeyBytes, deps.config.memory.maxListedFiles);
  }

  async call(c: ClaudeCall, headers: Record<string, string | string[] | undefined>): Promise<ClaudeOutcome> {
    const { proxy, memory, config } = this.deps;
    const { spec, body } = readMemorySpec(c.body, headers, config.memory, this.deps.maxKeyBytes);
    if (!spec) return proxy.call(c);
    const tool = declaredMemoryTool(body);
    const inject = spec.keys.length > 0 || spec.prefix !== undefined || spec.query !== undefined;
    if (!inject && !tool) {
      throw invalid('memory.user_id alone does nothing: give memory.keys, memory.prefix or memory.query to inject memories, or declare the memory tool ({"type": "memory_20250818", "name": "memory"})');
    }
    let upstream = body;
    let extra: Record<string, string> = {};
    if (inject) {
      // Read before anything is reserved: a store fault here is a 503 that costs nothing.
      const context = await loadContext(memory, c.accountId, spec, config.memory.maxInjectedMemories, c.now, body);
      if (context.block) upstream = withContext(body, context.block);
      extra = contextHeaders(context);
    }
    const call = { ...c, body: upstream };
    if (!tool) {
      const out = await proxy.call(call);
      return out.kind === 'message' || out.kind === 'stream' ? { ...out, headers: { ...out.headers, ...extra } } : out;
    }
    const loop = new ToolLoop({ proxy, meter: this.deps.meter, tool: this.tool, maxSteps: config.memory.maxSteps }, call, { accountId: c.accountId, userId: spec.userId }, tool.name);
    return upstream.stream === true ? streamToolLoop(loop, extra) : runToolLoop(loop, extra);
  }
}
