/**
 * Trading-style example domains: a ledger with transfers, a limit order book.
 */
package io.keel.examples;
