/**
 * Cache orchestrator: stages dataset snapshots onto node-local SSD under a quota, mounts them
 * into training pods and streams Arrow batches to workers. Filled by a later issue.
 */
package io.granary.cache;
