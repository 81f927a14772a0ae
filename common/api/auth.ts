import { z } from 'zod';

export const RoleSchema = z.enum(['agent', 'lead', 'admin', 'auditor', 'privacy-officer']);
export type Role = z.infer<typeof RoleSchema>;

export const LoginRequestSchema = z.object({
  username: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(256),
});
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

export const UserViewSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  roles: z.array(RoleSchema),
  skillGroups: z.array(z.string()),
  expert: z.boolean(),
});
export type UserView = z.infer<typeof UserViewSchema>;

export const LoginResponseSchema = z.object({
  token: z.string(),
  expiresAt: z.string(),
  user: UserViewSchema,
});
export type LoginResponse = z.infer<typeof LoginResponseSchema>;

/** `GET /api/v1/auth/users`: the staff directory a lead, admin or auditor may see. */
export const StaffDirectorySchema = z.object({ users: z.array(UserViewSchema) });
export type StaffDirectory = z.infer<typeof StaffDirectorySchema>;
