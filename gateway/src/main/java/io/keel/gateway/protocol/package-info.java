/**
 * The Keel wire protocol: message layout ({@link io.keel.gateway.protocol.Protocol}), error codes, and
 * allocation-free flyweights to read and write messages.
 */
package io.keel.gateway.protocol;
