// Types of the keda backend's status API; owned by the status backend work.
export {};
