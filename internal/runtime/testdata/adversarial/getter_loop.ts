// expect: timeout
// The result getter never returns: conversion must stay interruptible.
return { get x() { for (;;) {} } };
