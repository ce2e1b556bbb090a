/**
 * The business-logic processor: domain API, Disruptor ingress, aggregates, idempotency, snapshots, recovery.
 */
package io.keel.engine;
