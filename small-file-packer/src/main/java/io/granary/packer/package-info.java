/**
 * Small-file packer: WebDataset tar shards, their index and manifest, verification, resume and
 * registration of shard sets as datasets. Filled by the packer issue.
 */
package io.granary.packer;
